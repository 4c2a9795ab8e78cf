"""The MQTT bridge: Chat Completions requests over MQTT, answered by the same pipeline as HTTP.

A transport beside ``api/`` (which is HTTP): it may import ``api`` and ``agents``; nothing
imports it. ``python manage.py mqtt_bridge`` runs it.
"""
