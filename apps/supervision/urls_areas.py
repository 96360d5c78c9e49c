"""Pages of the areas part of 监督考核 (mounted under /supervision/, namespace ``supervision``)."""

urlpatterns: list = []
