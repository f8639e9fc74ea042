"""Timer functions (`reconcile`, `horologium`, `sinker`, `status_reconciler`, `tide`): each calls one
function of the core with the timer's `past_due` flag and lets its exceptions reach the host.

Each schedule is an NCRONTAB expression (six fields, seconds first) written here, with
`use_monitor=True` so the host records the last run in its storage. The core never trusts the timer
to fire exactly once: every timer is level-triggered from stored state, so a missed run or a timer
that fires twice converges to the same result."""
import azure.functions as func

bp = func.Blueprint()


@bp.timer_trigger(schedule="0 * * * * *", arg_name="timer", use_monitor=True)
def tide(timer: func.TimerRequest) -> None:
    """Prow's tide sync (sync_period 1m): one action per pool, `tide` statuses, dashboard data."""
    from shared.tide.sync import run_tide
    run_tide()


@bp.function_name("reconcile")
@bp.timer_trigger(arg_name="timer", schedule="*/30 * * * * *", run_on_startup=False, use_monitor=True)
def reconcile(timer: func.TimerRequest) -> None:
    """Plank and crier every 30 s: job states from pods, timeouts, superseded runs, GitHub reports."""
    from shared.reconciler import reconcile_tick
    reconcile_tick()


@bp.function_name("horologium")
@bp.timer_trigger(arg_name="timer", schedule="0 * * * * *", use_monitor=True)
def horologium(timer: func.TimerRequest) -> None:
    """Prow's horologium (tick_interval 1m): start the periodic jobs that are due."""
    from shared.horologium import run_horologium
    run_horologium()



@bp.function_name("sinker")
@bp.timer_trigger(arg_name="timer", schedule="30 * * * * *", use_monitor=True)
def sinker(timer: func.TimerRequest) -> None:
    """Prow's sinker: old job records and pods removed (a bounded amount per run)."""
    from shared.sinker import run_sinker
    run_sinker()


@bp.function_name("status_reconciler")
@bp.timer_trigger(arg_name="timer", schedule="15 * * * * *", use_monitor=True)
def status_reconciler(timer: func.TimerRequest) -> None:
    """Prow's status-reconciler: after a job config change, newly required jobs start and removed contexts retire."""
    from shared.status_reconciler import run_status_reconciler
    run_status_reconciler()
