"""Celery tasks of the metrics app: thin, take ids (or nothing), call services, safe to run
twice."""

from celery import shared_task
from django.db import transaction

from metrics import drills, reports, rollup, task_names

# --- drills and weekly reports ------------------------------------------------------------


@shared_task(name=task_names.ATTACH_DRILL_INCIDENTS, ignore_result=True)
def attach_drill_incidents() -> int:
    """Beat, every 5 s: attach newly triggered incidents of drilled services to their drill."""
    return drills.drills_attach_pending()


@shared_task(name=task_names.BUILD_WEEKLY_REPORTS, ignore_result=True)
def build_weekly_reports() -> int:
    """Beat, hourly: each team's previous ISO week (in its zone) once the team's own Monday
    06:00 has passed, built once; new snapshots are emailed to subscribers."""
    built = [r for r in reports.reports_build_previous_week() if r.created]
    for result in built:
        report_id = result.report.pk
        transaction.on_commit(lambda report_id=report_id: email_weekly_report.delay(report_id))
    return len(built)


@shared_task(name=task_names.EMAIL_WEEKLY_REPORT, ignore_result=True)
def email_weekly_report(report_id: int) -> int:
    return reports.report_email(report_id=report_id)


# --- MTTx read model ----------------------------------------------------------------------


@shared_task(name=task_names.ROLLUP_CLOSED_WEEKS, ignore_result=True)
def rollup_closed_weeks() -> int:
    """Beat, hourly: roll up closed weeks not rolled up yet and recompute closed weeks that
    later incident events changed (idempotent)."""
    return rollup.mttx_weeks_rollup()
