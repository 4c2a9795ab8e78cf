from django.apps import AppConfig


class MqttConfig(AppConfig):
    name = "mqtt_bridge"
    verbose_name = "MQTT bridge"
