from django.db import migrations, models


def seed(apps, schema_editor):
    apps.get_model('hello', 'Greeting').objects.create(text='Hello from a migrated table')


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(
            name='Greeting',
            fields=[('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('text', models.CharField(max_length=200))],
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
