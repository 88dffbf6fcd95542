import azure.functions as func

from shared.use_cases.publish_correspondence import publish_correspondence


def main(msg: func.QueueMessage) -> None:
    publish_correspondence(msg.get_body())
