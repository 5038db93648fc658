"""Monotonic totals for /metrics: counters that must never go down, whatever retention
removes and whichever web process is scraped (Prometheus' rate() and increase() read any
drop as a restart). Written by incidents.counters, read by metrics.exposition."""

from __future__ import annotations

from django.db import models


class CounterTotal(models.Model):
    """One shard of one counter: the total is the sum over shards. Writers add to a random
    shard, so concurrent workers rarely wait on each other's row lock."""

    name = models.CharField(max_length=64)
    # The counter's label value (a source, a channel, a histogram bound), "" when none.
    label = models.CharField(max_length=64, blank=True)
    shard = models.PositiveSmallIntegerField(default=0)
    value = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["name", "label", "shard"], name="counter_total_name_label_shard"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name}{{{self.label}}}[{self.shard}] = {self.value}"
