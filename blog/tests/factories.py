import factory

from betting.tests.factories import UserFactory
from blog.models import Post, PostStatus


class PostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Post

    title = factory.Sequence(lambda n: f"Match report {n}")
    body = "Full time."
    status = PostStatus.PUBLISHED
    author = factory.SubFactory(UserFactory)
