"""python -m testbed ...: the test machines' command (see nspawn.py)."""
import os
import runpy

runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'nspawn.py'), run_name='__main__')
