def evaluate_timers(sender, record, actor=None, changes=None, created=False, **kwargs):
    """Every change to a record brings its SLA timers in line, in the same transaction."""
    from . import services

    services.evaluate(record, actor, created=created)
