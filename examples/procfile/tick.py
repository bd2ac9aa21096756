"""`cron_tick: * * * * * python tick.py`: a scheduled job (piku's Procfile form), run by a systemd timer every
minute in the live release. It notes each run in the app's writable directory, with who ran it and where."""
import datetime
import getpass
import os

line = '%s tick by %s in %s\n' % (datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'),
                                  getpass.getuser(), os.getcwd())
with open(os.path.join(os.environ['PYFLEET_SHARED_DIR'], 'ticks.log'), 'a') as out:
    out.write(line)
print(line.strip(), flush=True)
