"""Queue functions (`dispatch`): parse the trigger message, call the core, let its exceptions reach the host."""
import azure.functions as func

bp = func.Blueprint()


@bp.function_name("dispatch")
@bp.queue_trigger(arg_name="msg", queue_name="webhook-events", connection="PROW_STORAGE")
def dispatch(msg: func.QueueMessage) -> None:
    # RetryDelivery (and any unexpected error) propagates: the host redelivers the message and,
    # after maxDequeueCount attempts, moves it to webhook-events-poison.
    from shared.dispatch import dispatch_message

    dispatch_message(msg.get_body(), dequeue_count=getattr(msg, "dequeue_count", None) or 1)
