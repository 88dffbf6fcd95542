import azure.functions as func

from shared.api.http import RequestContext, api, json_response
from shared.use_cases.health import health


# Not counted against the request capacity: a busy instance is not an unhealthy one.
@api(consumes=None, authenticate=False, admission=False)
def main(ctx: RequestContext) -> func.HttpResponse:
    return json_response(health())
