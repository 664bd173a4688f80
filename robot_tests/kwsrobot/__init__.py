"""The Python side of the Robot suites: what a BUILD holds, reference clips, keyword streams, suite generation."""
