class OfflineBankingLLM:  # replaced by the real model shortly
    def __init__(self, **kwargs):
        pass
