import azure.functions as func

from shared.attachments import initialize_attachment
from shared.http import RequestContext, api, json_response


@api()
def main(ctx: RequestContext) -> func.HttpResponse:
    attachment_id = initialize_attachment(ctx.caller, ctx.json_body())
    return json_response(str(attachment_id))
