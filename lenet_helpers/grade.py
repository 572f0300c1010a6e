"""`python -m lenet_helpers.grade SUBMISSIONS --out gradebook.csv`: see `lenet_helpers.grading` (instructor guide)."""

import sys

from lenet_helpers.grading.cli import main

if __name__ == "__main__":
    sys.exit(main())
