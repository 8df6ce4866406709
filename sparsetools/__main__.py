"""``python -m sparsetools`` runs the sparsetools command."""
import sys

from sparsetools.cli import main

sys.exit(main())
