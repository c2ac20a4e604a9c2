"""NeRF domain: DFA-trained neural radiance fields on NeRF-Synthetic scenes."""

from dfazoo.nerf.fields import NeRF, TinyNeRF
from dfazoo.nerf.recipes import RECIPES
from dfazoo.nerf.task import ViewSynthesisTask
from dfazoo.spec import Domain, register_domain

DOMAIN = register_domain(
    Domain("nerf", architectures=(NeRF, TinyNeRF), tasks=(ViewSynthesisTask,), recipes=RECIPES)
)

__all__ = ["DOMAIN", "NeRF", "TinyNeRF", "ViewSynthesisTask"]
