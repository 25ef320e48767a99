"""Episodes and where they come from: the episode dataclasses and Habitat's json.gz formats
(:mod:`~navgym.datasets.episodes`), the user's Habitat data (:mod:`~navgym.datasets.habitat`),
goal points (:mod:`~navgym.datasets.goals`) and ProcHouse generation
(:mod:`~navgym.datasets.prochouse`, through the Simulator interface only)."""

from navgym.datasets.episodes import Episode, EpisodeDataset, read_dataset, write_dataset

#: Dataset names of env ids: ProcHouse and ProcHouseHard (generated) and the Habitat datasets
#: (the user's data).
DATASETS = ("ProcHouse", "ProcHouseHard", "Gibson", "MP3D", "HM3D", "HSSD")
#: The generated ones.
GENERATED_DATASETS = ("ProcHouse", "ProcHouseHard")

__all__ = ["DATASETS", "GENERATED_DATASETS", "Episode", "EpisodeDataset", "read_dataset", "write_dataset"]
