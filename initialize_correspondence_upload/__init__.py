import azure.functions as func

from shared.api.form_binding import parse_form
from shared.api.http import MULTIPART, RequestContext, api, json_response
from shared.use_cases.initialize_correspondence_upload import (
    initialize_correspondence_upload,
)


# The host caps a request at 100 MB (413 before this runs); see docs/multipart.md.
@api(consumes=MULTIPART, max_body=None)
def main(ctx: RequestContext) -> func.HttpResponse:
    form = parse_form(ctx.req.get_body() or b"", ctx.req.headers.get("Content-Type", ""))
    return json_response(initialize_correspondence_upload(ctx.caller, form.request, form.files))
