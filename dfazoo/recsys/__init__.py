"""Recommender domain: DFA-trained FM, DeepFM, Deep & Cross and AFN for click-through rates.

Score raw records with a trained model (the field encoding ships in its ``config.json``)::

    import dfazoo
    model = dfazoo.from_pretrained("deepfm-ml100k-dfa")
    model.score([{"user_id": 1, "item_id": 50, "age": 24, "gender": "M", "occupation": "technician",
                  "zip": "85711", "genre": "Comedy", "year": 1995}])   # tensor([p_click])
"""

from dfazoo.recsys.fields import FieldEncoder, FieldValueError
from dfazoo.recsys.models import AFN, DCN, FM, CTRModel, DeepFM
from dfazoo.recsys.recipes import RECIPES
from dfazoo.recsys.task import CTRTask
from dfazoo.spec import Domain, register_domain

DOMAIN = register_domain(
    Domain("recsys", architectures=(FM, DeepFM, DCN, AFN), tasks=(CTRTask,), recipes=RECIPES)
)

__all__ = [
    "AFN",
    "DCN",
    "DOMAIN",
    "FM",
    "CTRModel",
    "CTRTask",
    "DeepFM",
    "FieldEncoder",
    "FieldValueError",
]
