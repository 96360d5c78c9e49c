from django.contrib.auth.backends import ModelBackend


class OrganizationModelBackend(ModelBackend):
    """Loads the user with organisation and roles in two queries, once per request."""

    def get_user(self, user_id):
        user = (
            self.get_user_queryset()
            .select_related("organization__region")
            .prefetch_related("groups")
            .filter(pk=user_id)
            .first()
        )
        return user if user is not None and self.user_can_authenticate(user) else None

    def get_user_queryset(self):
        from django.contrib.auth import get_user_model

        return get_user_model()._default_manager.all()
