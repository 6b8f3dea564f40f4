"""The developer guide's view decorators for web apps outside Django (extra `[web]`):
`esi_auth.web.starlette` (Starlette and FastAPI) and `esi_auth.web.flask`."""

from esi_auth.web.core import WebSSO

__all__ = ["WebSSO"]
