from flask import Flask

from .config import Config


def create_app(config: type = Config) -> Flask:
    app = Flask(__name__)
    app.config.from_object(config)

    from .views import bp

    app.register_blueprint(bp, url_prefix="/api")
    return app
