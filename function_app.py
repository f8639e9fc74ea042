"""The Functions app: registers the blueprints and nothing else."""
import azure.functions as func

from functions.http import bp as http_bp
from functions.queues import bp as queues_bp
from functions.timers import bp as timers_bp

app = func.FunctionApp()
app.register_functions(http_bp)
app.register_functions(queues_bp)
app.register_functions(timers_bp)
