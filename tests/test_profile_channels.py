"""The profile says where e-mail goes only while e-mail is on."""

from django.urls import reverse

from apps.reminders.models import ChannelPreference


def test_the_profile_says_when_email_is_off(world, login):
    world.edu_unit_filler.email = "u@qdperf.example"
    world.edu_unit_filler.save()
    client = login(world.edu_unit_filler)
    assert "邮件将发送至" in client.get(reverse("accounts:profile")).content.decode()
    ChannelPreference.objects.create(user=world.edu_unit_filler, email=False)
    html = client.get(reverse("accounts:profile")).content.decode()
    assert "邮件提醒已关闭" in html and "邮件将发送至" not in html
