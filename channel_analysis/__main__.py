import sys

from channel_analysis.cli import main

sys.exit(main())
