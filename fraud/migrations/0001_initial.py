"""The fraud room takes over the flags the console kept (same rows, the table was
renamed by staff_console 0002), with their admin permissions, and the judging's
scan mark gets a table of its own."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MARK = "fraud_flags"


def take_over(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="fraud", model="fraudflag").exists():
        # Permissions granted on flags (and admin log entries) follow the model.
        ContentType.objects.filter(app_label="staff_console", model="fraudflag").update(
            app_label="fraud"
        )
    OldMark = apps.get_model("staff_console", "ScanMark")
    JudgingMark = apps.get_model("fraud", "JudgingMark")
    old = OldMark.objects.filter(name=MARK).first()
    if old is not None:
        JudgingMark.objects.update_or_create(
            name=MARK, defaults={"scanned_to": old.scanned_to, "last_pk": old.last_pk}
        )
        old.delete()


def give_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="staff_console", model="fraudflag").exists():
        ContentType.objects.filter(app_label="fraud", model="fraudflag").update(
            app_label="staff_console"
        )
    OldMark = apps.get_model("staff_console", "ScanMark")
    JudgingMark = apps.get_model("fraud", "JudgingMark")
    mark = JudgingMark.objects.filter(name=MARK).first()
    if mark is not None:
        OldMark.objects.update_or_create(
            name=MARK, defaults={"scanned_to": mark.scanned_to, "last_pk": mark.last_pk}
        )


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
        ("staff_console", "0002_fraudflag_moves_to_fraud"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The table exists already (staff_console 0002 renamed it).
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="FraudFlag",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("reason", models.CharField(choices=[("same_ip", "same IP as the inviter"), ("burst", "burst of activations"), ("fast_activation", "activated right after signing up"), ("sequential_phones", "sequential phone numbers")], max_length=20, verbose_name="reason")),
                        ("subject_key", models.CharField(blank=True, default="", editable=False, max_length=20)),
                        ("evidence", models.JSONField(default=list, verbose_name="evidence")),
                        ("status", models.CharField(choices=[("open", "open"), ("reviewed", "reviewed, fine"), ("fraud", "fraud")], default="open", max_length=8, verbose_name="status")),
                        ("raised_at", models.DateTimeField(verbose_name="raised at")),
                        ("updated_at", models.DateTimeField(verbose_name="updated at")),
                        ("reviewed_at", models.DateTimeField(blank=True, null=True, verbose_name="reviewed at")),
                        ("inviter", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="fraud_flags", to=settings.AUTH_USER_MODEL, verbose_name="inviter")),
                        ("reviewed_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL, verbose_name="reviewed by")),
                        ("subject", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+", to=settings.AUTH_USER_MODEL, verbose_name="referral")),
                    ],
                    options={
                        "verbose_name": "fraud flag",
                        "verbose_name_plural": "fraud flags",
                        "indexes": [models.Index(fields=["status", "-updated_at"], name="fraudflag_list_idx"), models.Index(fields=["reason", "status", "-updated_at"], name="fraudflag_reason_idx")],
                        "constraints": [models.UniqueConstraint(fields=("reason", "inviter", "subject_key"), name="fraudflag_one_per_subject"), models.CheckConstraint(condition=models.Q(("status", "open"), ("reviewed_at__isnull", False), _connector="OR"), name="fraudflag_review_has_time")],
                    },
                ),
            ],
        ),
        migrations.CreateModel(
            name="JudgingMark",
            fields=[
                ("name", models.CharField(max_length=32, primary_key=True, serialize=False, verbose_name="scan")),
                ("scanned_to", models.DateTimeField(verbose_name="scanned up to")),
                ("last_pk", models.BigIntegerField(default=0)),
            ],
            options={
                "verbose_name": "judging mark",
                "verbose_name_plural": "judging marks",
            },
        ),
        migrations.RunPython(take_over, give_back),
    ]
