import azure.functions as func

from shared.publishing import handle_message


def main(msg: func.QueueMessage) -> None:
    handle_message(msg.get_body())
