from django.templatetags.static import static
from django.urls import reverse


def test_favicon_is_linked_and_the_browsers_default_address_answers(world, login, client):
    assert client.get("/favicon.ico").headers["Location"] == static("favicon.svg")
    page = login(world.edu_filler).get(reverse("core:home")).content.decode()
    assert f'rel="icon" href="{static("favicon.svg")}"' in page
