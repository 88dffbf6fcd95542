import azure.functions as func

from shared.api.http import RequestContext, api, json_response
from shared.use_cases.initialize_attachment import initialize_attachment


@api()
def main(ctx: RequestContext) -> func.HttpResponse:
    return json_response(str(initialize_attachment(ctx.caller, ctx.json_body())))
