"""The application package: models, rules, errors, authentication, storage and services.

Function folders import from here and stay thin (parse -> call one service -> map result).
"""
