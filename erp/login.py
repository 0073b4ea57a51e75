"""Logins are throttled: wrong passwords are counted per account and per client address.

The API's ``/api/auth/token/`` counts its failures with DRF throttles (the cache): once an account
(or an address) has ``login_account`` (``login_address``) wrong passwords inside the window, every
attempt — the right password included — answers 429 until the window passes. The admin's and the
cashiers' login forms are guarded by django-axes (``AXES_*`` settings): it records the failures in
the database and locks the account or the address out; ``manage.py axes_reset_username USER``
unlocks a form login, ``manage.py unlock_login USER`` both.
"""

import hashlib
import math
import re

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.throttling import SimpleRateThrottle

_PERIOD = re.compile(r"(\d*)([smhd])")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def client_address(request) -> str:
    """The client's address: REMOTE_ADDR, or behind TRUSTED_PROXIES proxies the hop they saw."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    proxies = settings.TRUSTED_PROXIES
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-min(proxies, len(hops))]
    return request.META.get("REMOTE_ADDR", "")


class FailedLoginThrottle(SimpleRateThrottle):
    """Counts wrong passwords only (``record_failure``); refuses every attempt at the limit."""

    def parse_rate(self, rate):
        """ "10/15m": ten in fifteen minutes (DRF alone reads only "10/m")."""
        if rate is None:
            return (None, None)
        number, period = rate.split("/")
        count, unit = _PERIOD.fullmatch(period).groups()
        return int(number), int(count or 1) * _SECONDS[unit]

    def get_ident(self, request):
        return client_address(request)

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.history = self._recent(self.key)
        return len(self.history) < self.num_requests

    def _recent(self, key) -> list[float]:
        self.now = self.timer()
        return [moment for moment in self.cache.get(key, []) if moment > self.now - self.duration]

    def record_failure(self, request, view) -> None:
        key = self.get_cache_key(request, view)
        if self.rate is None or key is None:
            return
        history = self._recent(key)
        history.insert(0, self.now)
        self.cache.set(key, history, self.duration)


class LoginAccountThrottle(FailedLoginThrottle):
    scope = "login_account"

    def get_cache_key(self, request, view):
        try:
            username = str(request.data.get("username") or "")
        except Exception:  # an unreadable body has no account; the view answers 400
            return None
        return self.key_for(username)

    @classmethod
    def key_for(cls, username: str) -> str | None:
        username = username.strip().lower()
        if not username:
            return None
        ident = hashlib.sha256(username.encode()).hexdigest()
        return cls.cache_format % {"scope": cls.scope, "ident": ident}


def unlock_account(username: str) -> None:
    """An administrator unlocks an account: its API counter and its django-axes lockout."""
    from axes.utils import reset

    key = LoginAccountThrottle.key_for(username)
    if key:
        LoginAccountThrottle.cache.delete(key)
    reset(username=username)


class LoginAddressThrottle(FailedLoginThrottle):
    scope = "login_address"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class ThrottledObtainAuthToken(ObtainAuthToken):
    """``POST /api/auth/token/`` (username, password) -> {"token"}; throttled on wrong passwords."""

    throttle_classes = [LoginAccountThrottle, LoginAddressThrottle]

    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except ValidationError:
            for throttle in self.get_throttles():
                throttle.record_failure(request, self)
            raise

    def throttled(self, request, wait):
        minutes = max(1, math.ceil((wait or 60) / 60))
        raise Throttled(
            wait=wait,
            detail=(
                "Demasiados intentos fallidos de inicio de sesión con esta cuenta o desde esta dirección. "
                f"Espere {minutes} minuto(s) o pida a un administrador que la desbloquee."
            ),
        )


class LoginFormAxesBackend(AxesStandaloneBackend):
    """django-axes for the login forms (which always pass the request). A call without request
    (``Client.login`` in tests, scripts) is left to the next backend instead of failing, and the API
    token is throttled by its own counters (its failures still count for axes' account lock)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None or request.path.startswith("/api/"):
            return None  # no request to lock; the API token has its own throttles
        return super().authenticate(request, username=username, password=password, **kwargs)
