"""Timer functions (`reconcile`, `horologium`, `sinker`, `status_reconciler`, `tide`): each calls one
function of the core with the timer's `past_due` flag and lets its exceptions reach the host.

Each schedule is an NCRONTAB expression (six fields, seconds first) written here, with
`use_monitor=True` so the host records the last run in its storage. The core never trusts the timer
to fire exactly once: every timer is level-triggered from stored state, so a missed run or a timer
that fires twice converges to the same result."""
import azure.functions as func

bp = func.Blueprint()
