import azure.functions as func

from shared.use_cases.expire_attachments import expire_attachments


def main(timer: func.TimerRequest) -> None:
    expire_attachments()
