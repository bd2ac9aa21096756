# gunicorn's settings, as Heroku's getting-started app (python-getting-started) has them: Python, read by
# gunicorn itself, with reuse_port set in a branch.
import os

# Heroku sets PORT; bind on every address, IPv4 and IPv6.
bind = ["[::]:" + os.environ.get("PORT", "5006")]

# Heroku sets WEB_CONCURRENCY from the dyno's memory.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))

if os.environ.get("ENVIRONMENT") == "development":
    # Reload the app when its code changes, on a developer's machine.
    reload = True
else:
    # Several gunicorn instances (or a restart) may bind the same port.
    reuse_port = True
    # Load the app once in the master, before the workers fork.
    preload_app = True

# The app's own request timeout, which gunicorn applies rather than pyfleet's.
timeout = 25

accesslog = "-"
