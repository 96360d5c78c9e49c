"""The notification centre (/notifications/): every signed-in person's own reminders."""

from django.urls import path

from . import views_notifications as views

app_name = "notifications"
urlpatterns = [
    path("", views.notification_list, name="notification_list"),
    path("<int:pk>/", views.notification_detail, name="notification_detail"),
    path("<int:pk>/read/", views.notification_read, name="notification_read"),
    path("read-all/", views.notification_read_all, name="notification_read_all"),
    path("badge/", views.bell_badge, name="bell_badge"),
    path("channels/", views.channels_update, name="channels_update"),
]
