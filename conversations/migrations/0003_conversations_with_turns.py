"""Requests become turns of conversations; every existing log becomes a one-turn conversation.

The old rows keep their ids as turns, and each one's new conversation takes the same id,
so a link to an old log in the admin still opens it. Renaming a table keeps its index
names, and the new conversations table would generate the same ones (PostgreSQL refuses
that), so the renamed table's clashing indexes are dropped first and made again after.
"""

import uuid

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Q


def _one_conversation_per_old_row(apps, schema_editor):
    Conversation = apps.get_model("conversations", "Conversation")
    Turn = apps.get_model("conversations", "Turn")
    for turn in Turn.objects.all().iterator():
        conversation = Conversation.objects.create(
            id=turn.id,
            api_key_id=turn.api_key_id,
            key="",
            external_id=turn.external_call_id,
            channel=turn.channel,
            caller_phone=turn.caller_phone,
            caller_asserted=turn.caller_asserted,
            customer_id=turn.customer_id,
            started_at=turn.started_at,
            last_activity_at=turn.started_at,
            turn_count=1,
            status=turn.status,
            answered_by=turn.answered_by,
            prompt_tokens=turn.prompt_tokens,
            completion_tokens=turn.completion_tokens,
        )
        Turn.objects.filter(pk=turn.pk).update(conversation=conversation, position=1)


class Migration(migrations.Migration):

    dependencies = [
        ("api", "0001_initial"),
        ("bank", "0002_banking_skills"),
        ("conversations", "0002_conversation_provider_fallbacks"),
    ]

    operations = [
        migrations.RenameModel("Conversation", "Turn"),
        migrations.AlterField(model_name="turn", name="started_at", field=models.DateTimeField()),
        migrations.AlterField(
            model_name="turn", name="caller_phone", field=models.CharField(blank=True, max_length=20)
        ),
        migrations.AlterField(
            model_name="turn",
            name="api_key",
            field=models.ForeignKey(
                blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, to="api.apikey"
            ),
        ),
        migrations.AlterField(
            model_name="turn",
            name="customer",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                to="bank.customer",
            ),
        ),
        migrations.RenameField("message", "conversation", "turn"),
        migrations.RenameField("toolcall", "conversation", "turn"),
        migrations.AlterField(
            model_name="message",
            name="turn",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="messages", to="conversations.turn"
            ),
        ),
        migrations.AlterField(
            model_name="toolcall",
            name="turn",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="tool_calls", to="conversations.turn"
            ),
        ),
        migrations.CreateModel(
            name="Conversation",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                (
                    "key",
                    models.CharField(
                        blank=True,
                        help_text="How its turns name it within the API key (call:…, id:…, user:…, phone:…); "
                        "empty for a request that named no conversation.",
                        max_length=160,
                    ),
                ),
                (
                    "external_id",
                    models.CharField(
                        blank=True,
                        db_index=True,
                        help_text="The id as the client sent it: Vapi's call id, X-Conversation-Id, session_id or user.",
                        max_length=128,
                        verbose_name="call or conversation id",
                    ),
                ),
                (
                    "channel",
                    models.CharField(
                        choices=[
                            ("vapi", "Vapi voice call"),
                            ("api", "API"),
                            ("web", "Web front end"),
                            ("session", "Session stream"),
                            ("mqtt", "MQTT bridge"),
                        ],
                        default="api",
                        max_length=16,
                    ),
                ),
                ("caller_phone", models.CharField(blank=True, db_index=True, max_length=20)),
                (
                    "caller_asserted",
                    models.BooleanField(default=False, help_text="The caller's number came from a trusted channel."),
                ),
                ("started_at", models.DateTimeField(db_index=True)),
                ("last_activity_at", models.DateTimeField(db_index=True)),
                ("turn_count", models.PositiveIntegerField(default=0, verbose_name="turns")),
                (
                    "status",
                    models.CharField(
                        choices=[("completed", "Completed"), ("error", "Error"), ("cancelled", "Cancelled")],
                        help_text="The latest turn's status.",
                        max_length=16,
                    ),
                ),
                ("answered_by", models.CharField(blank=True, help_text="Who answered the latest turn.", max_length=32)),
                ("prompt_tokens", models.PositiveBigIntegerField(default=0)),
                ("completion_tokens", models.PositiveBigIntegerField(default=0)),
                (
                    "api_key",
                    models.ForeignKey(
                        blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to="api.apikey"
                    ),
                ),
                (
                    "customer",
                    models.ForeignKey(
                        blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to="bank.customer"
                    ),
                ),
            ],
            options={"ordering": ["-last_activity_at"]},
        ),
        migrations.AddConstraint(
            model_name="conversation",
            constraint=models.UniqueConstraint(
                condition=~Q(key=""), fields=("api_key", "key"), name="conversations_one_per_key"
            ),
        ),
        migrations.AddField(
            model_name="turn",
            name="conversation",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="turns",
                to="conversations.conversation",
            ),
        ),
        migrations.AddField(
            model_name="turn",
            name="position",
            field=models.PositiveIntegerField(default=1, help_text="1 for the conversation's first turn."),
        ),
        migrations.AddField(
            model_name="turn",
            name="trace_id",
            field=models.CharField(
                blank=True,
                db_index=True,
                help_text="The request's OpenTelemetry trace, when tracing is on.",
                max_length=32,
            ),
        ),
        migrations.AddField(
            model_name="turn",
            name="generated_chars",
            field=models.PositiveIntegerField(
                default=0,
                help_text="Characters of answer the model produced; more than the answer shown when "
                "the client went away before receiving them all.",
            ),
        ),
        migrations.AddField(
            model_name="turn",
            name="replaced",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="What could not be stored as it was (NaN, lone surrogates, NUL...) and was replaced.",
            ),
        ),
        migrations.AddField(
            model_name="message",
            name="earlier",
            field=models.BooleanField(
                default=False,
                help_text="Carried from earlier turns: the request's messages up to its last assistant message.",
            ),
        ),
        migrations.RunPython(_one_conversation_per_old_row, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="turn",
            name="conversation",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="turns",
                to="conversations.conversation",
            ),
        ),
        migrations.RemoveField(model_name="turn", name="api_key"),
        migrations.RemoveField(model_name="turn", name="external_call_id"),
        migrations.AlterField(model_name="turn", name="started_at", field=models.DateTimeField(db_index=True)),
        migrations.AlterField(
            model_name="turn",
            name="customer",
            field=models.ForeignKey(
                blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to="bank.customer"
            ),
        ),
        migrations.AlterModelOptions(name="turn", options={"ordering": ["started_at", "position"]}),
        migrations.AlterField(
            model_name="turn",
            name="channel",
            field=models.CharField(
                choices=[
                    ("vapi", "Vapi voice call"),
                    ("api", "API"),
                    ("web", "Web front end"),
                    ("session", "Session stream"),
                    ("mqtt", "MQTT bridge"),
                ],
                default="api",
                max_length=16,
            ),
        ),
    ]
