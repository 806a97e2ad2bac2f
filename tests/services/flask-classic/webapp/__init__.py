from flask import Flask

app = Flask(__name__)

from webapp import routes  # noqa: E402,F401  (the routes register themselves on import)
