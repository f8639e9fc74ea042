"""The Functions app: registers the blueprints and nothing else."""
import azure.functions as func

from functions.http import bp as http_bp
from functions.queues import bp as queues_bp

app = func.FunctionApp()
app.register_functions(http_bp)
app.register_functions(queues_bp)
