import azure.functions as func

from shared.sweeper import sweep


def main(timer: func.TimerRequest) -> None:
    sweep()
