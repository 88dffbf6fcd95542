import azure.functions as func

from shared.use_cases.sweep_correspondences import sweep_correspondences


def main(timer: func.TimerRequest) -> None:
    sweep_correspondences()
