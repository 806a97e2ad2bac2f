from contextlib import asynccontextmanager

from fastapi import FastAPI

from .. import __version__
from ..model import get_model
from .routes import router


@asynccontextmanager
async def lifespan(app: FastAPI):
    get_model()  # load once, before the first request
    yield


app = FastAPI(title="catdog", version=__version__, lifespan=lifespan)
app.include_router(router)


@app.get("/healthz")
def healthz():
    return {"status": "ok"}
