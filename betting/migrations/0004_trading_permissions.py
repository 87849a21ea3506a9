"""Trading and settlement become permissions, held by a `traders` group."""

from django.db import migrations

GROUP = "traders"
# Custom powers, plus the admin's own model permissions so a trader can use the Match admin.
PERMISSIONS = {
    "trade_match": "Can create matches and open, suspend or close their betting",
    "settle_match": "Can settle or void matches (pays or refunds every bet)",
    "add_match": "Can add match",
    "change_match": "Can change match",
    "view_match": "Can view match",
}


def create_traders(apps, schema_editor):
    # Permissions are normally made after every migration (post_migrate): made here so the
    # group can hold them now; post_migrate then finds them and skips them.
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    match_type, _ = ContentType.objects.get_or_create(app_label="betting", model="match")
    group, _ = Group.objects.get_or_create(name=GROUP)
    for codename, name in PERMISSIONS.items():
        permission, _ = Permission.objects.get_or_create(
            content_type=match_type, codename=codename, defaults={"name": name}
        )
        group.permissions.add(permission)


def remove_traders(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("betting", "0003_odds_running_totals"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="match",
            options={
                "ordering": ["kickoff", "id"],
                "permissions": [
                    ("trade_match", "Can create matches and open, suspend or close their betting"),
                    ("settle_match", "Can settle or void matches (pays or refunds every bet)"),
                ],
                "verbose_name_plural": "matches",
            },
        ),
        migrations.RunPython(create_traders, remove_traders),
    ]
