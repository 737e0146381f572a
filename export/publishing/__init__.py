"""`lealla publish`: an export staged in a hub's layout, validated offline, then uploaded.

targets      `--to` parsed: Kaggle Models handle or Hugging Face repo id
licenses     the licences each hub accepts (from their own documentation)
hub_metadata Kaggle's metadata files and the Hugging Face README front matter
staging      the staged folder: the export's files + the hub's card and metadata
validation   what is checked before anything leaves the machine
clients      the hubs' own clients (the `lealla[publish]` extra): credentials, one upload
publisher    the whole command as a Python function, `publish`
"""
