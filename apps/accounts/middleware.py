from .models import SecurityPolicy


class IdleSessionMiddleware:
    """Signed-in sessions expire after the policy's idle minutes; every request re-arms the clock."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            request.session.set_expiry(SecurityPolicy.current().session_idle_minutes * 60)
        return self.get_response(request)
