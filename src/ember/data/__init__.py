"""Data plumbing: device-resident batching (`arrays`), sliding windows over series (`timeseries`),
class folders of images and audio (`image`, `audio`, `folders`)."""

from ember.data.audio import audio_dataset_from_directory, load_wav, resample
from ember.data.image import ImageDataset, ImageFileError, image_dataset_from_directory, image_folder
from ember.data.timeseries import TimeseriesWindows, timeseries_dataset_from_array, timeseries_windows

__all__ = ["timeseries_windows", "timeseries_dataset_from_array", "TimeseriesWindows", "image_folder",
           "ImageFileError", "image_dataset_from_directory", "ImageDataset", "audio_dataset_from_directory", "load_wav", "resample"]
