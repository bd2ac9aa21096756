# gunicorn's settings, as a Heroku getting-started app has them.
import os

# Heroku sets PORT; bind on every address, IPv4 and IPv6.
bind = ["[::]:" + os.environ.get("PORT", "5006")]

# Several gunicorn instances (or a restart) may bind the same port.
reuse_port = True

# Load the app once in the master, before the workers fork.
preload_app = True

# Heroku sets WEB_CONCURRENCY from the dyno's memory.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))

accesslog = "-"
