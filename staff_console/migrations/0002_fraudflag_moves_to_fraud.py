"""Fraud flags move to the `fraud` app: the table is renamed and the rows stay.

The console's state forgets the model here; fraud's first migration takes it
over without touching the database (SeparateDatabaseAndState on both sides).
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("staff_console", "0001_fraud_flags"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterModelTable(name="fraudflag", table="fraud_fraudflag"),
            ],
            state_operations=[
                migrations.DeleteModel(name="FraudFlag"),
            ],
        ),
    ]
