"""Short definitions shown next to every figure (pages, reports, emails); the full text is
docs/metrics.md."""

IMPACT_START = (
    "impact start: the drill's fault injection for drill incidents, else a responder's "
    "correction, else the earliest alert start, else detection"
)
MTTD = "MTTD: detected - impact start"
MTTA = "MTTA: acknowledged - detected"
MTTR = "MTTR: resolved - impact start"
DRILLS_EXCLUDED = "drill incidents are kept out of production figures"
DRILL_MTTD = "MTTD: first alert received - fault injected"
DRILL_MTTR = "MTTR: last attached incident resolved - fault injected"
DRILL_MTTA = "MTTA: first acknowledgement - first alert received"
OFF_HOURS = "off hours: outside 08:00-18:00 Monday to Friday in the person's time zone"
PAGES = "pages: incidents the person acknowledged or was notified for"

ALL = {
    "impact_start": IMPACT_START,
    "mttd": MTTD,
    "mtta": MTTA,
    "mttr": MTTR,
    "drills_excluded": DRILLS_EXCLUDED,
    "drill_mttd": DRILL_MTTD,
    "drill_mtta": DRILL_MTTA,
    "drill_mttr": DRILL_MTTR,
    "off_hours": OFF_HOURS,
    "pages": PAGES,
}
