"""Queue functions (`dispatch`, `launch`): parse the trigger message, call the core, let its exceptions reach the host."""
import azure.functions as func

bp = func.Blueprint()


@bp.function_name("dispatch")
@bp.queue_trigger(arg_name="msg", queue_name="webhook-events", connection="PROW_STORAGE")
def dispatch(msg: func.QueueMessage) -> None:
    # RetryDelivery (and any unexpected error) propagates: the host redelivers the message and,
    # after maxDequeueCount attempts, moves it to webhook-events-poison.
    from shared.dispatch import dispatch_message

    dispatch_message(msg.get_body(), dequeue_count=getattr(msg, "dequeue_count", None) or 1)


@bp.function_name("launch")
@bp.queue_trigger(arg_name="msg", queue_name="prowjobs", connection="PROW_STORAGE")
def launch(msg: func.QueueMessage) -> None:
    # A cluster that fails or times out raises: the host redelivers; a job over a limit is re-sent
    # with a visibility delay by the core and this message completes.
    from shared.launcher import launch_message

    launch_message(msg.get_body())
