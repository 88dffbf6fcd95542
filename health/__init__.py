import azure.functions as func

from shared.health import check_health
from shared.http import RequestContext, api, json_response


@api(consumes=None, authenticate=False)
def main(ctx: RequestContext) -> func.HttpResponse:
    return json_response(check_health())
